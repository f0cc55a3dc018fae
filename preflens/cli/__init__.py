"""The ``preflens`` command line, the roof of the house: ``main`` builds the parser from
the command registry in ``commands/``, each command imports what it needs when it runs,
and ``output`` is the one module that prints results. Nothing below imports this
package."""
