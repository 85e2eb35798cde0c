"""Local mode: the embedded AWS emulator and everything that makes the real flow run on one machine."""
