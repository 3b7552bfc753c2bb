"""Credentials other than HTTP Basic: the Access Tokens browsers and agent desktops carry."""
