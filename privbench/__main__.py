"""`python -m privbench` runs the same CLI as the `privbench` command."""

from privbench.cli import main

main()
