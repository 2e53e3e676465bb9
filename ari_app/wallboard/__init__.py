"""The supervisors' live wallboard: the floor as the routing snapshot has it, pushed once a
second (server-sent events), with today's figures from the stored calls."""
