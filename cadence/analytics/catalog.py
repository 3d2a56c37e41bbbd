"""The analytics tables: what one row is (the grain) and where it comes from; their columns are in
columns.py. Every table also holds `partition_month` (one month replaced atomically per run) and
`scoping_note_version` (the note used).
Segments: segment_level / segment_key as in marts.kpi_segments_monthly, plus segment_level 'rep_id'."""

SEG = "segment (segment_level, segment_key; reps as segment_level 'rep_id')"

TABLES: dict[str, str] = {
    "segment_moments": f"One row per population (all | standard) and {SEG}: n and the sums of X, Y, X², XY for both "
    "X readings (SQL aggregates of marts.fct_lead_cadence), TTF, complaint and quality totals.",
    "lead_cells": f"One row per population, X reading, {SEG}, touch count, TTF band and outcome: lead counts "
    "(SQL aggregate of marts.fct_lead_cadence), the input of every distributional statistic.",
    "scoping_notes": "One row per month: the resolved scoping note (JSON) the analytics used, its source file, the "
    "version the marts were built with, and the leads analysed (in scope, minus those whose "
    "attribution window the extract does not cover yet).",
    "linear_fits": f"One row per population, X reading, {SEG} and trim (none | top): n, Pearson r (p-value, Fisher "
    "interval), slope m and intercept b (SE, interval), R², Spearman ρ, r tier; from segment_moments "
    "(trim none) and lead_cells (top share of cadences removed).",
    "fit_checks": f"One row per population and {SEG}: r and slope of both X readings, with and without the extreme "
    "cadences, and the flags (readings disagree, sensitive to extremes).",
    "logistic_fits": f"One row per population, X reading and {SEG}: logistic regression of conversion on touches "
    "and TTF band (IRLS on lead_cells), touch coefficient, odds ratio, average marginal effect.",
    "logistic_terms": f"One row per population, X reading, {SEG} and coefficient of the logistic fit.",
    "touch_curve_bins": f"One row per population, X reading, {SEG} and touch-count bin: leads, CR, Wilson interval "
    "and the chosen shape's fitted CR.",
    "curve_shapes": f"One row per population, X reading and {SEG}: AIC and parameters of the flat, linear, plateau, S "
    "and quadratic shapes, the chosen shape and its reading (breakpoint, optimum).",
    "ttf_bands": f"One row per population, {SEG} and TTF band: leads, share, CR and Wilson interval, with the "
    "segment's median TTF, target and share within target.",
    "ttf_gaps": f"One row per population, {SEG} and TTF band edge: CR within vs beyond the edge, gap with interval.",
    "lead_quadrants": f"One row per population, X reading and {SEG}: X̄, CR, leads and shares in Q1-Q4.",
    "unit_quadrants": "One row per rep or account (unit_type, unit_id) with enough leads: X̄ and CR against what "
    "its segment mix predicts (dx, dy) and its quadrant.",
    "quadrant_lists": "One row per unit type, list (coaching_priority = most often Q3, model_to_imitate = most "
    "often Q1) and rank (1-10) over the lookback months.",
    "clusters": "One row per segment and candidate lead flag: flagged leads vs the others (X̄, CR, effect size, "
    "distance from the others' line) and the cluster verdict.",
    "composition": "One row per population, X reading, pooled segment and splitting dimension: pooled slope vs the "
    "sub-segment slopes and the Simpson's-paradox warning.",
    "traffic_light": "One row per segment (decision population): green | amber | red | grey, the rule that decided "
    "it and its reason, the effect of touches (marginal effect and touch bands with intervals, curve reading), the "
    "method's r reading (r of both readings, tiers, the light r alone gives), ΔCR and interval, complaints, "
    "heterogeneity flags, thresholds.",
    "thresholds": "One row per segment and threshold (min_touches, ttf_target_hours, max_touches_per_day): current "
    "and recommended value, status, the curve shape and reading it rests on, its stability over resamples of the "
    "leads, evidence (leads, interval, gap) and a note.",
    "verdicts": "One row per segment shown in the reports ('all' and each cell) and month: the verdict every "
    "sentence, colour and number about the segment is rendered from: light and reason, effect of touches, the "
    "threshold changes the light allows (a raise of contact volume under a red light is held, with why), the "
    "decision, the A/B test of the primary change (or why it cannot run within experiment_max_weeks) and a "
    "one-sentence headline.",
    "diagnostic": "One row per question (1-10) of the express diagnostic: status (answered | partial | "
    "needs_human_input | not_measurable), the answer and the table holding its evidence.",
}

FCT, WEEKLY, TOP5 = "marts.fct_lead_cadence", "marts.kpi_guardrails_weekly", "cleaning.outliers_top5"

#: step (a function of cadence.analytics.steps) -> (tables it writes, tables it reads), in the order they run
STEPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "statistics": (("segment_moments", "lead_cells", "scoping_notes"), (FCT,)),
    "linear": (("linear_fits", "fit_checks"), ("segment_moments", "lead_cells")),
    "logistic": (("logistic_fits", "logistic_terms"), ("lead_cells",)),
    "curves": (("touch_curve_bins", "curve_shapes"), ("lead_cells", "linear_fits")),
    "ttf": (("ttf_bands", "ttf_gaps"), ("lead_cells", "segment_moments")),
    "quadrants": (("lead_quadrants", "unit_quadrants", "quadrant_lists"), ("lead_cells", FCT)),
    "groups": (("clusters", "composition"), ("linear_fits", FCT)),
    "thresholds": (("thresholds",), ("curve_shapes", "lead_cells", "ttf_gaps", FCT)),
    "decisions": (
        ("traffic_light", "verdicts"),
        (
            "linear_fits",
            "fit_checks",
            "clusters",
            "composition",
            "segment_moments",
            "logistic_fits",
            "curve_shapes",
            "lead_cells",
            "thresholds",
            FCT,
            WEEKLY,
        ),
    ),
    "express_diagnostic": (
        ("diagnostic",),
        (
            "segment_moments",
            "curve_shapes",
            "clusters",
            "fit_checks",
            "lead_quadrants",
            "traffic_light",
            "thresholds",
            FCT,
            TOP5,
        ),
    ),
}
