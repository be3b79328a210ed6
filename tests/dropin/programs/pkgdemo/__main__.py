import sys
from xtquant.xttrader import XtQuantTrader
print("module", XtQuantTrader.__module__, XtQuantTrader("x", 1).strategy_name, sys.argv[1:], flush=True)
