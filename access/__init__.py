"""Who may see and do what: roles, users, login, and the server-side guard of every request.

Nothing here draws anything; pages ask ``access`` what the current user may do.
"""
