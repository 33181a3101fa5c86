"""Display: HTML (one home, sanitised: ``render``), plots, widgets and the report. Depends on
the core, media and API values; nothing below it imports it."""
