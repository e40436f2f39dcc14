"""Contract both ways: check a real provider against the spec, and the mock against the provider.

- `check`: the one checker of an answer against the spec (also behind testing.ResponseChecker);
- `proxy`, `record`: forward to a provider, report its drift, write what it held as a scenario;
- `verify`: the spec as stateful contract tests against a live provider;
- `replay`: a mock journal sent to a provider, answers compared;
- `pact`: the journal as a Pact v4 file; `report`: findings as JSON and JUnit XML.

Layer: above `server` (the proxy serves the mock's admin API and dashboard), below
`testing` (the pytest plugin writes pacts). The command line reaches it through `cli`.
"""
