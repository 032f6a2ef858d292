"""One module per framework, each implementing every scenario identically.

Each module exposes ``app`` (the scenario endpoints) and ``many`` (the
500-route app). ``_common`` holds what they share: the payloads and the
pydantic model, so that every framework does the same work.
"""
