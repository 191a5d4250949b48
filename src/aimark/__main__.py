from aimark.cli import main

raise SystemExit(main())
