# Named verbs; each one delegates to ./run.sh, which installs what it needs (locked) first.
.PHONY: demo test lint ui bench status docs
demo:   ; ./run.sh demo
test:   ; ./run.sh test
lint:   ; ./run.sh lint
ui:     ; ./run.sh ui
status: ; ./run.sh status
docs:   ; ./run.sh docs
bench:  ; ./run.sh bench
