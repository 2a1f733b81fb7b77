"""The local endpoint: moto on 127.0.0.1, Parry's corrections to it, bootstrap and the sandbox demo."""
