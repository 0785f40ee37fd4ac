"""Turn a sweep's runs into tables, figures and a report.

`gather` reads every finished run of a sweep folder into tidy tables, `aggregate` reduces them
over seeds (means, 95% CIs, rankings, paired differences), `plots` draws them, `report` writes
the folder of results and `report.html`; `python -m analysis SWEEP_DIR` does all of it.
"""
