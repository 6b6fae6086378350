"""The casino's back office as support sees it: the `CasinoBackend` interface, its HTTP
adapter and the demo back office that implements the same contract."""
