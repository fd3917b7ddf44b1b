"""The administrator's screens (server-rendered): users, patient registration, clinic closures
and the clinic's settings. Each page calls the same services and schemas as the JSON API and
the ``flask user`` commands, so the page, the API and the CLI accept and refuse the same."""
