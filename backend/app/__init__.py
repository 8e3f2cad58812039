"""The composition root: the application factory, the wiring of collaborators, the command
line and the background jobs. The only package that knows every other one."""
