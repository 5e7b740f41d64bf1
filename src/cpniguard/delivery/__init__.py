"""Delivery adapters behind the `MessageSender` port: the worker hands them rendered envelopes
after commit, so nothing in a request ever waits on a mail server, an SMS provider or a printer."""
