"""The dashboard's users: who may sign in, with which role, and their sign-in sessions.

A stage like the others: the dashboard (signing in, the guard on every request, the settings
page) and the CLI (``campaign users …``) call it and only parse and word what it says.

- :mod:`.members`: add, list, change a password or a role, remove (messages as data);
- :mod:`.passwords`: the password rules, Argon2id hashing and checking;
- :mod:`.roles`: what each role may do (the one answer to "may this user change content?");
- :mod:`.sessions`: sessions kept as rows, their tokens, expiry and revocation;
- :mod:`.logins`: signing in, with the limits on failed attempts.

"Users" are the team's people signing in to the dashboard; "accounts" are the social-network
accounts posts go out from (one meaning per word).
"""
