"""The claimbench Python app: endpoint logic shared by every Python stack.

`logic` owns what the contract (fixtures/contract/contract.json) says each endpoint computes and
which inputs it accepts; `upstream` owns the one pooled outbound HTTP client. Neither knows about
a web framework: routing, request reading and serialization belong to the modules under `stacks/`,
so adding a stack never means re-implementing (and possibly diverging from) an endpoint.
"""
