# run_mutants.py is a by-hand tool (see its docstring), not a test module: never collect anything here.
collect_ignore_glob = ["*.py"]
