"""Channel edges: parse what arrives from outside into service calls; send what leaves."""
