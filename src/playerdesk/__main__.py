from playerdesk.cli import main

raise SystemExit(main())
