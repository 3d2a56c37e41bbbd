{#- The "top 5 outliers" box of the month (method's outlier protocol): one row per outlier, rank 1-5. -#}
with outliers as (

    select * from {{ ref('outliers') }}
    where {{ partition_predicate() }}

),

final as (

    select * from outliers
    where outlier_rank <= 5

)

select * from final
