"""The core: pure logic that returns values or raises; it never prints or prompts."""
