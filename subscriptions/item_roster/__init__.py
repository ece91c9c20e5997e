"""Which enterprises known to the county qualify for a policy item, and which have applied or
been granted it (the department's roster for 免申即享 and follow-up)."""
