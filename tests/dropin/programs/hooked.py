"""Prints what an xtquant program sees under rpc_client.run (no hub needed)."""
import json
import sys

import sibling_helper  # a module next to the script: the script's folder is on sys.path
from xtquant import xtdata, xtdatacenter as xtdc
from xtquant.xttrader import XtQuantTrader
import xtquant.xttrader
from xtquant import xttype

t = XtQuantTrader(r"D:\QMT\userdata_mini", 424242)
print(json.dumps({
    "name": __name__, "argv": sys.argv, "sibling": sibling_helper.VALUE,
    "xttrader": xtquant.xttrader.__served_by__, "xtdata": xtdata.__served_by__, "xtdatacenter": xtdc.__served_by__,
    "listen": list(xtdc.listen(port=58610)), "strategy": t.strategy_name,
    "xttype_is_real": not hasattr(xttype, "__served_by__"),
}), flush=True)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0)
