from mlopsctl.main import main

raise SystemExit(main())
