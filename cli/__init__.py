"""``rectrack``, the command line: the second front door over ``models``, beside ``dashboard``."""
