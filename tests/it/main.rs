//! The integration tests: one module per behaviour a user relies on, all in one binary
//! (one link instead of one per file), sharing the helpers in `common`.

// The helpers start emulators: only the modules that need the emulator use them.
#[cfg(feature = "emulator")]
mod common;

mod bad_inputs_are_refused_before_any_request;
mod batch_runs_as_fast_as_the_account_allows;
mod catalog_models_are_typed_nodes;
mod chaos_soak;
mod cli_exposes_nodes_to_any_engine;
mod cli_runs_workflows;
mod client_covers_every_operation;
mod client_estimates_what_the_emulator_charges;
mod client_fails_fast_on_what_retrying_cannot_fix;
mod client_finds_the_task_of_a_lost_run;
mod client_lists_tasks_and_deletes_their_files;
mod client_reports_every_error_class;
mod client_retries_only_what_is_safe;
mod downloads_write_nothing_through_links;
mod editor_runs_a_table_of_rows;
mod editor_serves_a_guarded_api;
mod emulator_curl_script;
mod emulator_docs_flow;
mod emulator_faults;
mod emulator_image_to_video;
mod emulator_lifecycle_order;
mod emulator_refuses_bad_requests;
mod emulator_runs_catalog_models;
mod emulator_serves_the_model_catalog;
mod every_node_runs_against_the_emulator;
mod executor_cancel_stops_remote_tasks;
mod executor_never_pays_twice;
mod executor_reads_declared_ports_not_shapes;
mod executor_resume_notices_changed_files;
mod executor_runs_the_examples;
mod hostile_fetches_reach_nothing;
mod mcp_tools_keep_the_money_rules;
mod n8n_package_carries_its_catalog;
mod n8n_package_is_generated_from_the_specs;
mod node_exec_reports_to_engines;
mod node_schemas_are_valid_and_current;
mod parallel_steps_pay_once;
mod readme_matches_the_crate;
mod registry_finds_every_node;
mod rows_run_through_one_workflow;
mod the_price_is_known_before_paying;
mod workflow_validation_lists_every_problem;
