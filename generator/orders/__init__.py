"""The order service: prices orders from the built catalog, stores them once, never oversells.

Pure parts (`catalog`, `pricing`) take plain data and return plain data; storage, HTTP and
notifications sit at the edges (`store_*`, `app`, `notify`).
"""
