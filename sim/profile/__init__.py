"""Business profiles: a business in its owner's units, turned into the model's configuration.

`fields` defines and reads a profile, `derive` maps it to model keys, `template` writes a
commented starting profile per industry; `python -m sim.profile` is the command line, and
`python -m sim business=my_shop.yaml` runs one.
"""

from __future__ import annotations
