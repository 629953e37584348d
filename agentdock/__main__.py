from agentdock.cli.main import main

main()
