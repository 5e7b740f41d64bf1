"""Account-change notices and other customer messages: routes, texts, the outbox worker."""
