-- syntax.lua: a syntax error on line 4.
return {
	name = "syntax",
	version = "0.1.0" "oops",
	steps = {},
}
