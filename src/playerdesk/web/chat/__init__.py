"""Live chat over HTTP and websockets: the player widget and the agent console's socket."""
