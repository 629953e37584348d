"""AgentDock: a LangGraph/LangChain agent to a serverless endpoint with one file and one command."""

__version__ = "0.1.0"
