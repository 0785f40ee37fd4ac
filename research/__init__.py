"""Research tools on top of the model: sensitivity analysis, policy optimisation, calibration, validation.

Every tool builds its configs with `sim.app.load_config` (exactly as the command line composes
them), runs them through `sim.batch.run_many` and evaluates each candidate on the same seeds
(common random numbers), so two candidates differ only by their parameters.
"""
