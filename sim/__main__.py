"""`python -m sim`: check the command line, then hand over to the Hydra app.

Start-up (imports, the command-line check, Hydra's config) builds hundreds of thousands of objects
that live as long as the process. The garbage collector would only scan them again and again, so it
is off until the runs start (`sim.app.end_start_up` freezes what start-up built and turns it back
on), and at exit they are frozen again, which spares the interpreter's last full collection.
Mesa is imported first: its import inspects the whole call stack for each of its loggers, which is
cheap while the stack is shallow and few modules are loaded. Together: 2.2 s -> 1.6 s a start.
"""

import gc

gc.disable()
import mesa  # noqa: E402,F401  (first: see above)

from sim.app import main  # noqa: E402

main()
gc.freeze()
