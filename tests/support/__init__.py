"""What several test modules share: helpers, constants and world builders, one module per concept.

A test module imports these from here, never from another test module or a conftest (under
--import-mode=importlib that would load a second copy of it); the fixtures stay in conftest.py files.
"""
