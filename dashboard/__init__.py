"""The Streamlit app: entry point, navigation and helpers shared by pages."""
