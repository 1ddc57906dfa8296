"""The Textual application: screens, widgets and bindings. It pulls from the core on timers."""
