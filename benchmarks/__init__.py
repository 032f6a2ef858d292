"""Load benchmarks: dyne against peer frameworks, one run, ratios to raw ASGI.

Run ``python3 -m benchmarks`` (``--quick`` while iterating); see README.md.
Nothing here is imported by dyne.
"""
