// Filled in by its issue; see DESIGN.md for this module's job.
