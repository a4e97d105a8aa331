-- Current answered QLQ-C30 items; unanswered and invalid answers have no row (derivations §8).
select
    site,
    patient_pseudonym,
    assessment_date,
    item_no::integer as item_no,
    response::integer as response
from {{ source('raw', 'qlq_c30_item_response') }}
where valid_to is null and not is_withdrawn
