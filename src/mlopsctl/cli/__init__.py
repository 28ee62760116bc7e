"""The CLI edge: parse arguments, call the core, render results. Kept import-light."""
