"""Response actions, one module per service; `parry.actions.registry` imports each when it is used."""
