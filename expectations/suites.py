"""Every domain's suites, in the order gate 1 runs them."""

from expectations import (
    adverse_events,
    delivery,
    follow_up,
    imaging,
    laboratory,
    patients,
    quality_of_life,
    treatment,
)

DOMAINS = [patients, treatment, quality_of_life, laboratory, imaging, adverse_events,
           follow_up, delivery]
