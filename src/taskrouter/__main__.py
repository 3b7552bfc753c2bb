from taskrouter.cli import main

raise SystemExit(main())
