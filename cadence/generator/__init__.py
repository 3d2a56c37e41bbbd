"""Sample monthly cohort extracts for Cadence, with planted effects the audit must find again.

``generate(landing_dir, months, ...)`` writes, per month ``YYYY-MM``, the five files of the extract
contract (docs/extract_contract.md) under ``landing_dir/<source>/<YYYY-MM>/`` (CSV or Parquet, canonical
columns and text forms) and a manifest ``landing_dir/_manifest/<YYYY-MM>.json`` that records what was
planted. A month's extract holds the leads *created* in that month (inside the month both in local time
and in UTC) and everything that happened to them in the 30 days after creation, which may run into the
next month. Everything is vectorised (numpy / Arrow), so 1,000,000 leads a month take seconds.

The same (seed, month, arguments) always give byte-identical files, whatever other months are asked.

What is planted (the parameters are copied into the manifest's ``effects``):

- **Segments**: channel (inbound / outbound / partner) x company size (SMB / Mid / Enterprise), with
  their own cadence (touch counts, span, call/e-mail mix) and conversion curve. Conversion = an
  opportunity created within 30 days of the lead; a touch = a call or a sent e-mail; the curves take the
  touches *before* the opportunity and, for inbound SMB, the TTF (hours to the first call or first
  delivered e-mail).
- **Inbound SMB**: conversion rises with touches up to 6, then a plateau; x1.8 when TTF <= 2 h.
- **Outbound Enterprise**: an S-shaped (logistic) curve in the touch count.
- **VIP cluster** (~3 % of leads, mostly Enterprise, VIP accounts): 1-3 touches, calls only, p = 0.55.
- **Other segments**: a mild linear rise; per-rep multipliers (stable across months, mean 1 per team),
  funnel-phase and lead-score multipliers; disputes (~1 %) e-mail only, halved odds.
- **Calls**: reachability ~35-40 % that depends on the lead-local hour (best around 10:00 and 16:00,
  a lunch dip); about 7 % of later calls just outside 09:00-17:00 local time (counted in the manifest).
- **E-mails**: sent -> delivered (or bounced, 3 %) -> opened / clicked / replied / complained
  (0.05 % of delivered); unsubscribed when the lead opts out by e-mail.
- **Complaint spike**: in one ISO week of the month (manifest ``complaint_spike``), outbound Mid
  complaints jump to 1 % of delivered e-mails.
- **Opt-outs** (~3 %): touches stop, except one more touch for ~15 % of them (``touches_after_opt_out``).
- **Post-conversion touches**: ~35 % of converted leads keep receiving 1-3 touches after the
  opportunity (``post_conversion_touches``).
- **Meetings** for leads who responded (reply or a 2-minute conversation); **opportunities** with
  amounts by size (Enterprise >> SMB, EUR), won / lost / open at the extraction date.
- **Defects** (``defects=True`` or a subset of ``DEFECT_KINDS``): see ``_defects``; each kind is
  counted exactly and its rows listed (file, 1-based data row, id) in the manifest.
"""

from ._core import generate
from ._defects import DEFECT_KINDS

__all__ = ["DEFECT_KINDS", "generate"]
