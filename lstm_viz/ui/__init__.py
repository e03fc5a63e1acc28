"""The Qt user interface: main window, cell diagram, traces, playback and themes."""
