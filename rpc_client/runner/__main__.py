import sys

from rpc_client.runner.main import main

sys.exit(main())
