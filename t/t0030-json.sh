#!/bin/bash
# t0030: the JSON reader (json.c) through t/jsontest: JSONTestSuite's
# y_ (must accept) and n_ (must refuse) cases written out here, the i_
# (implementation-defined) ones as decided, duplicate keys, UTF-8 edges,
# each limit at and over its cap, deep nesting, numbers and exact
# integers, lookups, then canonical dumps compared with Python's json
# module on documents written here and on random ones.
#
# JSONTEST picks the binary (default t/jsontest; `make asan` may point it
# at a sanitizer build).
. "$(dirname "$0")/lib.sh"
J=${JSONTEST:-$TDIR/jsontest}
[ -x "$J" ] || skip_all "t/jsontest not built (run make check)"

# run ARGS...: what jsontest prints, then "exit N".
run() {
	"$J" "$@" 2>&1
	echo "exit $?"
}

# y NAME JSON [DUMP]: JSON (taken as is) parses and dumps as DUMP
# (default: JSON itself).
y() {
	printf '%s' "$2" >in.json
	is "accept $1" "$(run in.json)" "${3-$2}
exit 0"
}

# n NAME JSON ERROR: JSON (as is) is refused with ERROR, "offset N: msg".
n() {
	printf '%s' "$2" >in.json
	is "reject $1" "$(run in.json)" "error: $3
exit 1"
}

# yb NAME FORMAT DUMP-FORMAT, nb NAME FORMAT ERROR: the same for the bytes
# printf FORMAT writes (for raw bytes; a JSON backslash is written \\).
yb() {
	printf "$2" >in.json
	is "accept $1" "$(run in.json)" "$(printf "$3")
exit 0"
}
nb() {
	printf "$2" >in.json
	is "reject $1" "$(run in.json)" "error: $3
exit 1"
}

# q NAME WANT ARGS...: jsontest ARGS (queries, then a file) prints WANT
# and exits 0, or 1 when WANT is an error; qt: the same within 10 seconds.
q() {
	_name=$1 _want=$2
	shift 2
	case $_want in "error: "*) _exit=1 ;; *) _exit=0 ;; esac
	is "$_name" "$(run "$@")" "$_want
exit $_exit"
}
qt() {
	_name=$1 _want=$2
	shift 2
	case $_want in "error: "*) _exit=1 ;; *) _exit=0 ;; esac
	is "$_name" "$(timeout 10 "$J" "$@" 2>&1; echo "exit $?")" "$_want
exit $_exit"
}

# ---- JSONTestSuite y_: accepted -----------------------------------------
y array_arraysWithSpaces '[[]   ]' '[[]]'
y array_empty-string '[""]'
y array_empty '[]'
y array_false '[false]'
y array_heterogeneous '[null, 1, "1", {}]' '[null,1,"1",{}]'
y array_null '[null]'
y array_with_1_and_newline $'[1\n]' '[1]'
y array_with_leading_space ' [1]' '[1]'
y array_with_several_null '[1,null,null,null,2]'
y array_with_trailing_space '[2] ' '[2]'
y number '[123e65]'
y number_0e+1 '[0e+1]'
y number_0e1 '[0e1]'
y number_after_space '[ 4]' '[4]'
y number_double_close_to_zero \
	'[-0.000000000000000000000000000000000000000000000000000000000000000000000000000001]'
y number_int_with_exp '[20e1]'
y number_minus_zero '[-0]'
y number_negative_int '[-123]'
y number_negative_one '[-1]'
y number_real_capital_e '[1E22]'
y number_real_capital_e_neg_exp '[1E-2]'
y number_real_capital_e_pos_exp '[1E+2]'
y number_real_exponent '[123e45]'
y number_real_fraction_exponent '[123.456e78]'
y number_real_neg_exp '[1e-2]'
y number_real_pos_exponent '[1e+2]'
y number_simple_int '[123]'
y number_simple_real '[123.456789]'
y object '{"asd":"sdf", "dfg":"fgh"}' '{"asd":"sdf","dfg":"fgh"}'
y object_basic '{"asd":"sdf"}'
y object_empty '{}'
y object_empty_key '{"":0}'
y object_escaped_null_in_key '{"foo\u0000bar": 42}' '{"foo\u0000bar":42}'
y object_extreme_numbers '{ "min": -1.0e+28, "max": 1.0e+28 }' '{"min":-1.0e+28,"max":1.0e+28}'
y object_long_strings \
	'{"x":[{"id": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}], "id": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}' \
	'{"x":[{"id":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}],"id":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
y object_simple '{"a":[]}'
y object_string_unicode \
	'{"title":"\u041f\u043e\u043b\u0442\u043e\u0440\u0430 \u0417\u0435\u043c\u043b\u0435\u043a\u043e\u043f\u0430" }' \
	'{"title":"Полтора Землекопа"}'
y object_with_newlines $'{\n"a": "b"\n}' '{"a":"b"}'
y string_1_2_3_bytes_UTF-8_sequences '["\u0060\u012a\u12AB"]' '["`Īካ"]'
y string_accepted_surrogate_pair '["\uD801\udc37"]' '["𐐷"]'
y string_accepted_surrogate_pairs '["\ud83d\ude39\ud83d\udc8d"]' '["😹💍"]'
y string_allowed_escapes '["\"\\\/\b\f\n\r\t"]' '["\"\\/\b\f\n\r\t"]'
y string_backslash_and_u_escaped_zero '["\\u0000"]'
y string_backslash_doublequotes '["\""]'
y string_comments '["a/*b*/c/*d//e"]'
y string_double_escape_a '["\\a"]'
y string_double_escape_n '["\\n"]'
y string_escaped_control_character '["\u0012"]'
y string_escaped_noncharacter '["\uFFFF"]' $'["\xef\xbf\xbf"]'
y string_in_array '["asd"]'
y string_in_array_with_leading_space '[ "asd"]' '["asd"]'
y string_last_surrogates_1_and_2 '["\uDBFF\uDFFF"]' $'["\xf4\x8f\xbf\xbf"]'
y string_nbsp_uescaped '["new\u00A0line"]' $'["new\xc2\xa0line"]'
y string_nonCharacterInUTF-8_U+10FFFF $'["\xf4\x8f\xbf\xbf"]'
y string_nonCharacterInUTF-8_U+FFFF $'["\xef\xbf\xbf"]'
y string_null_escape '["\u0000"]'
y string_one-byte-utf-8 '["\u002c"]' '[","]'
y string_pi '["π"]'
y string_reservedCharacterInUTF-8_U+1BFFF $'["\xf0\x9b\xbf\xbf"]'
y string_simple_ascii '["asd "]'
y string_space '" "'
y string_surrogates_U+1D11E_MUSICAL_SYMBOL_G_CLEF '["\uD834\uDd1e"]' '["𝄞"]'
y string_three-byte-utf-8 '["\u0821"]' $'["\xe0\xa0\xa1"]'
y string_two-byte-utf-8 '["\u0123"]' '["ģ"]'
y string_u+2028_line_sep $'["\xe2\x80\xa8"]'
y string_u+2029_par_sep $'["\xe2\x80\xa9"]'
y string_uEscape '["\u0061\u30af\u30EA\u30b9"]' '["aクリス"]'
y string_uescaped_newline '["new\u000Aline"]' '["new\nline"]'
y string_unescaped_char_delete $'["\x7f"]'
y string_unicode '["\uA66D"]' '["ꙭ"]'
y string_unicodeEscapedBackslash '["\u005C"]' '["\\"]'
y string_unicode_2 '["⍂㈴⍂"]'
y string_unicode_U+10FFFE_nonchar '["\uDBFF\uDFFE"]' $'["\xf4\x8f\xbf\xbe"]'
y string_unicode_U+1FFFE_nonchar '["\uD83F\uDFFE"]' $'["\xf0\x9f\xbf\xbe"]'
y string_unicode_U+200B_ZERO_WIDTH_SPACE '["\u200B"]' $'["\xe2\x80\x8b"]'
y string_unicode_U+2064_invisible_plus '["\u2064"]' $'["\xe2\x81\xa4"]'
y string_unicode_U+FDD0_nonchar '["\uFDD0"]' $'["\xef\xb7\x90"]'
y string_unicode_U+FFFE_nonchar '["\uFFFE"]' $'["\xef\xbf\xbe"]'
y string_unicode_escaped_double_quote '["\u0022"]' '["\""]'
y string_utf8 '["€𝄞"]'
y string_with_del_character $'["a\x7fa"]'
y structure_lonely_false 'false'
y structure_lonely_int '42'
y structure_lonely_negative_real '-0.1'
y structure_lonely_null 'null'
y structure_lonely_string '"asd"'
y structure_lonely_true 'true'
y structure_string_empty '""'
y structure_trailing_newline $'["a"]\n' '["a"]'
y structure_true_in_array '[true]'
y structure_whitespace_array ' [] ' '[]'
y structure_all_whitespace $' \t\r\n{ \t\r\n"a" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 \t\r\n] \t\r\n} \t\r\n' \
	'{"a":[1,2]}'
y structure_nested_empties '[[],{},[[]],{"":{}},[{}]]'

# ---- JSONTestSuite n_: refused, with where and why --------------------------
n array_1_true_without_comma '[1 true]' "offset 3: expected ',' or ']'"
nb array_a_invalid_utf8 '[a\xe5]' 'offset 1: expected a value'
n array_colon_instead_of_comma '["": 1]' "offset 3: expected ',' or ']'"
n array_comma_after_close '[""],' 'offset 4: unexpected data after the value'
n array_comma_and_number '[,1]' 'offset 1: expected a value'
n array_double_comma '[1,,2]' 'offset 3: expected a value'
n array_double_extra_comma '["x",,]' 'offset 5: expected a value'
n array_extra_close '["x"]]' 'offset 5: unexpected data after the value'
n array_extra_comma '["",]' 'offset 4: trailing comma'
n array_incomplete '["x"' 'offset 4: unexpected end of input'
n array_incomplete_invalid_value '[x' 'offset 1: expected a value'
n array_inner_array_no_comma '[3[4]]' "offset 2: expected ',' or ']'"
nb array_invalid_utf8 '[\xff]' 'offset 1: expected a value'
n array_items_separated_by_semicolon '[1:2]' "offset 2: expected ',' or ']'"
n array_just_comma '[,]' 'offset 1: expected a value'
n array_just_minus '[-]' 'offset 1: invalid number'
n array_missing_value '[   , ""]' 'offset 4: expected a value'
n array_newlines_unclosed $'["a",\n4\n,1,' 'offset 11: unexpected end of input'
n array_number_and_comma '[1,]' 'offset 3: trailing comma'
n array_number_and_several_commas '[1,,]' 'offset 3: expected a value'
nb array_spaces_vertical_tab_formfeed '["\va"\f]' 'offset 2: control character in string'
n array_star_inside '[*]' 'offset 1: expected a value'
n array_unclosed '[""' 'offset 3: unexpected end of input'
n array_unclosed_trailing_comma '[1,' 'offset 3: unexpected end of input'
n array_unclosed_with_new_lines $'[1,\n1\n,1' 'offset 8: unexpected end of input'
n array_unclosed_with_object_inside '[{}' 'offset 3: unexpected end of input'
n incomplete_false '[fals]' 'offset 1: invalid literal'
n incomplete_null '[nul]' 'offset 1: invalid literal'
n incomplete_true '[tru]' 'offset 1: invalid literal'
nb multidigit_number_then_00 '123\000' 'offset 3: unexpected data after the value'
n number_++ '[++1234]' 'offset 1: expected a value'
n number_+1 '[+1]' 'offset 1: expected a value'
n number_+Inf '[+Inf]' 'offset 1: expected a value'
n number_-01 '[-01]' 'offset 1: leading zero in number'
n number_-1.0. '[-1.0.]' "offset 5: expected ',' or ']'"
n number_-2. '[-2.]' 'offset 1: invalid number'
n number_-NaN '[-NaN]' 'offset 1: invalid number'
n number_.-1 '[.-1]' 'offset 1: expected a value'
n number_.2e-3 '[.2e-3]' 'offset 1: expected a value'
n number_0.1.2 '[0.1.2]' "offset 4: expected ',' or ']'"
n number_0.3e+ '[0.3e+]' 'offset 1: invalid number'
n number_0.3e '[0.3e]' 'offset 1: invalid number'
n number_0.e1 '[0.e1]' 'offset 1: invalid number'
n number_0_capital_E+ '[0E+]' 'offset 1: invalid number'
n number_0_capital_E '[0E]' 'offset 1: invalid number'
n number_0e+ '[0e+]' 'offset 1: invalid number'
n number_0e '[0e]' 'offset 1: invalid number'
n number_1.0e+ '[1.0e+]' 'offset 1: invalid number'
n number_1.0e- '[1.0e-]' 'offset 1: invalid number'
n number_1.0e '[1.0e]' 'offset 1: invalid number'
n number_1_000 '[1 000.0]' "offset 3: expected ',' or ']'"
n number_1eE2 '[1eE2]' 'offset 1: invalid number'
n number_2.e+3 '[2.e+3]' 'offset 1: invalid number'
n number_2.e-3 '[2.e-3]' 'offset 1: invalid number'
n number_2.e3 '[2.e3]' 'offset 1: invalid number'
n number_9.e+ '[9.e+]' 'offset 1: invalid number'
n number_Inf '[Inf]' 'offset 1: expected a value'
n number_NaN '[NaN]' 'offset 1: expected a value'
n number_U+FF11_fullwidth_digit_one '[１]' 'offset 1: expected a value'
n number_expression '[1+2]' "offset 2: expected ',' or ']'"
n number_hex_1_digit '[0x1]' "offset 2: expected ',' or ']'"
n number_hex_2_digits '[0x42]' "offset 2: expected ',' or ']'"
n number_infinity '[Infinity]' 'offset 1: expected a value'
n number_invalid+- '[0e+-1]' 'offset 1: invalid number'
n number_invalid-negative-real '[-123.123foo]' "offset 9: expected ',' or ']'"
nb number_invalid-utf-8-in-bigger-int '[123\xe5]' "offset 4: expected ',' or ']'"
nb number_invalid-utf-8-in-exponent '[1e1\xe5]' "offset 4: expected ',' or ']'"
nb number_invalid-utf-8-in-int '[0\xe5]' "offset 2: expected ',' or ']'"
n number_minus_infinity '[-Infinity]' 'offset 1: invalid number'
n number_minus_sign_with_trailing_garbage '[-foo]' 'offset 1: invalid number'
n number_minus_space_1 '[- 1]' 'offset 1: invalid number'
n number_neg_int_starting_with_zero '[-012]' 'offset 1: leading zero in number'
n number_neg_real_without_int_part '[-.123]' 'offset 1: invalid number'
n number_neg_with_garbage_at_end '[-1x]' "offset 3: expected ',' or ']'"
n number_real_garbage_after_e '[1ea]' 'offset 1: invalid number'
nb number_real_with_invalid_utf8_after_e '[1e\xe5]' 'offset 1: invalid number'
n number_real_without_fractional_part '[1.]' 'offset 1: invalid number'
n number_starting_with_dot '[.123]' 'offset 1: expected a value'
n number_with_alpha '[1.2a-3]' "offset 4: expected ',' or ']'"
n number_with_alpha_char '[1.8011670033376514H-308]' "offset 19: expected ',' or ']'"
n number_with_leading_zero '[012]' 'offset 1: leading zero in number'
n object_bad_value '["x", truth]' 'offset 6: invalid literal'
n object_bracket_key '{[: "x"}' 'offset 1: expected a string key'
n object_comma_instead_of_colon '{"x", null}' "offset 4: expected ':'"
n object_double_colon '{"x"::"b"}' 'offset 5: expected a value'
n object_emoji '{🇨🇭}' 'offset 1: expected a string key'
n object_garbage_at_end '{"a":"a" 123}' "offset 9: expected ',' or '}'"
n object_key_with_single_quotes "{key: 'value'}" 'offset 1: expected a string key'
nb object_lone_continuation_byte_in_key_and_trailing_comma '{"\xb9":"0",}' \
	'offset 2: invalid utf-8'
n object_missing_colon '{"a" b}' "offset 5: expected ':'"
n object_missing_key '{:"b"}' 'offset 1: expected a string key'
n object_missing_semicolon '{"a" "b"}' "offset 5: expected ':'"
n object_missing_value '{"a":' 'offset 5: unexpected end of input'
n object_no-colon '{"a"' 'offset 4: unexpected end of input'
n object_non_string_key '{1:1}' 'offset 1: expected a string key'
n object_non_string_key_but_huge_number_instead '{9999E9999:1}' 'offset 1: expected a string key'
n object_repeated_null_null '{null:null,null:null}' 'offset 1: expected a string key'
n object_several_trailing_commas '{"id":0,,,,,}' 'offset 8: expected a string key'
n object_single_quote "{'a':0}" 'offset 1: expected a string key'
n object_trailing_comma '{"id":0,}' 'offset 8: trailing comma'
n object_trailing_comment '{"a":"b"}/**/' 'offset 9: unexpected data after the value'
n object_trailing_comment_open '{"a":"b"}/**//' 'offset 9: unexpected data after the value'
n object_trailing_comment_slash_open '{"a":"b"}//' 'offset 9: unexpected data after the value'
n object_trailing_comment_slash_open_incomplete '{"a":"b"}/' \
	'offset 9: unexpected data after the value'
n object_two_commas_in_a_row '{"a":"b",,"c":"d"}' 'offset 9: expected a string key'
n object_unquoted_key '{a: "b"}' 'offset 1: expected a string key'
n object_unterminated-value '{"a":"a' 'offset 5: unterminated string'
n object_with_single_string '{ "foo" : "bar", "a" }' "offset 21: expected ':'"
n object_with_trailing_garbage '{"a":"b"}#' 'offset 9: unexpected data after the value'
n single_space ' ' 'offset 1: unexpected end of input'
n string_1_surrogate_then_escape '["\uD800\"]' 'offset 2: lone surrogate in \u escape'
n string_1_surrogate_then_escape_u '["\uD800\u"]' 'offset 2: lone surrogate in \u escape'
n string_1_surrogate_then_escape_u1 '["\uD800\u1"]' 'offset 2: lone surrogate in \u escape'
n string_1_surrogate_then_escape_u1x '["\uD800\u1x"]' 'offset 2: lone surrogate in \u escape'
n string_accentuated_char_no_quotes '[é]' 'offset 1: expected a value'
nb string_backslash_00 '["\\\000"]' 'offset 2: invalid escape'
n string_escape_x '["\x00"]' 'offset 2: invalid escape'
n string_escaped_backslash_bad '["\\\"]' 'offset 1: unterminated string'
n string_escaped_ctrl_char_tab $'["\\\t"]' 'offset 2: invalid escape'
n string_escaped_emoji '["\🌀"]' 'offset 2: invalid escape'
n string_incomplete_escape '["\"]' 'offset 1: unterminated string'
n string_incomplete_escaped_character '["\u00A"]' 'offset 2: invalid \u escape'
n string_incomplete_surrogate '["\uD834\uDd"]' 'offset 2: lone surrogate in \u escape'
n string_incomplete_surrogate_escape_invalid '["\uD800\uD800\x"]' \
	'offset 2: lone surrogate in \u escape'
nb string_invalid-utf-8-in-escape '["\\u\xe5"]' 'offset 2: invalid \u escape'
n string_invalid_backslash_esc '["\a"]' 'offset 2: invalid escape'
n string_invalid_unicode_escape '["\uqqqq"]' 'offset 2: invalid \u escape'
nb string_invalid_utf8_after_escape '["\\\xe5"]' 'offset 2: invalid escape'
n string_leading_uescaped_thinspace '[\u0020"asd"]' 'offset 1: expected a value'
n string_no_quotes_with_bad_escape '[\n]' 'offset 1: expected a value'
n string_single_doublequote '"' 'offset 0: unterminated string'
n string_single_quote "['single quote']" 'offset 1: expected a value'
n string_single_string_no_double_quotes 'abc' 'offset 0: expected a value'
n string_start_escape_unclosed '["\' 'offset 1: unterminated string'
nb string_unescaped_ctrl_char '["a\000a"]' 'offset 3: control character in string'
nb string_unescaped_1f '["\037"]' 'offset 2: control character in string'
nb string_unescaped_01_in_key '{"\001":1}' 'offset 2: control character in string'
n string_unescaped_newline $'["new\nline"]' 'offset 5: control character in string'
n string_unescaped_tab $'["\t"]' 'offset 2: control character in string'
n string_unicode_CapitalU '"\UA66D"' 'offset 1: invalid escape'
n string_with_trailing_garbage '""x' 'offset 2: unexpected data after the value'
n structure_angle_bracket_. '<.>' 'offset 0: expected a value'
n structure_angle_bracket_null '[<null>]' 'offset 1: expected a value'
n structure_array_trailing_garbage '[1]x' 'offset 3: unexpected data after the value'
n structure_array_with_extra_array_close '[1]]' 'offset 3: unexpected data after the value'
n structure_array_with_unclosed_string '["asd]' 'offset 1: unterminated string'
n structure_ascii-unicode-identifier 'aå' 'offset 0: expected a value'
n structure_capitalized_True '[True]' 'offset 1: expected a value'
n structure_close_unopened_array '1]' 'offset 1: unexpected data after the value'
n structure_comma_instead_of_closing_brace '{"x": true,' 'offset 11: unexpected end of input'
n structure_double_array '[][]' 'offset 2: unexpected data after the value'
n structure_end_array ']' 'offset 0: expected a value'
nb structure_incomplete_UTF8_BOM '\xef\xbb{}' 'offset 0: expected a value'
nb structure_lone-invalid-utf-8 '\xe5' 'offset 0: expected a value'
n structure_lone-open-bracket '[' 'offset 1: unexpected end of input'
n structure_no_data '' 'offset 0: unexpected end of input'
nb structure_null-byte-outside-string '[\000]' 'offset 1: expected a value'
n structure_number_with_trailing_garbage '2@' 'offset 1: unexpected data after the value'
n structure_object_followed_by_closing_object '{}}' 'offset 2: unexpected data after the value'
n structure_object_unclosed_no_value '{"":' 'offset 4: unexpected end of input'
n structure_object_with_comment '{"a":/*comment*/"b"}' 'offset 5: expected a value'
n structure_object_with_trailing_garbage '{"a": true} "x"' \
	'offset 12: unexpected data after the value'
n structure_open_array_apostrophe "['" 'offset 1: expected a value'
n structure_open_array_comma '[,' 'offset 1: expected a value'
n structure_open_array_open_object '[{' 'offset 2: unexpected end of input'
n structure_open_array_open_string '["a' 'offset 1: unterminated string'
n structure_open_array_string '["a"' 'offset 4: unexpected end of input'
n structure_open_object '{' 'offset 1: unexpected end of input'
n structure_open_object_close_array '{]' 'offset 1: expected a string key'
n structure_open_object_comma '{,' 'offset 1: expected a string key'
n structure_open_object_open_array '{[' 'offset 1: expected a string key'
n structure_open_object_open_string '{"a' 'offset 1: unterminated string'
n structure_open_object_string_with_apostrophes "{'a'" 'offset 1: expected a string key'
n structure_open_open '["\{["\{["\{["\{' 'offset 2: invalid escape'
nb structure_single_eacute '\xe9' 'offset 0: expected a value'
n structure_single_star '*' 'offset 0: expected a value'
n 'structure_trailing_#' '{"a":"b"}#{}' 'offset 9: unexpected data after the value'
n structure_U+2060_word_joined '[⁠]' 'offset 1: expected a value'
n structure_uescaped_LF_before_string '[\u000A""]' 'offset 1: expected a value'
n structure_unclosed_array '[1' 'offset 2: unexpected end of input'
n structure_unclosed_array_partial_null '[ false, nul' 'offset 9: invalid literal'
n structure_unclosed_array_unfinished_false '[ true, fals' 'offset 8: invalid literal'
n structure_unclosed_array_unfinished_true '[ false, tru' 'offset 9: invalid literal'
n structure_unclosed_object '{"asd":"asd"' 'offset 12: unexpected end of input'
n structure_unicode-identifier 'å' 'offset 0: expected a value'
n structure_whitespace_formfeed $'[\f]' 'offset 1: expected a value'
nb structure_UTF8_BOM_no_data '\xef\xbb\xbf' 'offset 0: byte order mark'
n structure_open_array_object "$(for i in $(seq 50000); do printf '[{"":'; done)" \
	'offset 160: nesting deeper than the limit (64)'
n structure_100000_opening_arrays "$(head -c 100000 /dev/zero | tr '\0' '[')" \
	'offset 64: nesting deeper than the limit (64)'

# ---- JSONTestSuite i_: implementation-defined, decided --------------------
# Huge and tiny numbers are kept as text; every surrogate and UTF-8 oddity
# is refused; so is any byte order mark and any UTF-16.
y number_huge_exp '[0.4e00669999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999969999999006]'
y number_neg_int_huge_exp '[-1e+9999]'
y number_double_huge_neg_exp '[123.456e-789]'
y number_real_underflow '[123e-10000000]'
y number_too_big_neg_int '[-123123123123123123123123123123]'
y number_too_big_pos_int '[100000000000000000000]'
y number_very_big_negative_int '[-237462374673276894279832749832423479823246327846]'
y number_pos_double_huge_exp '[1.5e+9999]'
n object_key_lone_2nd_surrogate '{"\uDFAA":0}' 'offset 2: lone surrogate in \u escape'
n string_1st_surrogate_but_2nd_missing '["\uDADA"]' 'offset 2: lone surrogate in \u escape'
n string_1st_valid_surrogate_2nd_invalid '["\uD888\u1234"]' 'offset 2: lone surrogate in \u escape'
nb string_UTF-16LE_with_BOM '\xff\xfe[\000"\000\xe9\000"\000]\000' 'offset 0: expected a value'
nb string_UTF-8_invalid_sequence '["\xe6\x97\xa5\xd1\x88\xfa"]' 'offset 7: invalid utf-8'
nb string_UTF8_surrogate_U+D800 '["\xed\xa0\x80"]' 'offset 2: invalid utf-8'
n string_incomplete_surrogate_and_escape_valid '["\uD800\n"]' 'offset 2: lone surrogate in \u escape'
n string_incomplete_surrogate_pair '["\uDd1ea"]' 'offset 2: lone surrogate in \u escape'
n string_incomplete_surrogates_escape_valid '["\uD800\uD800\n"]' \
	'offset 2: lone surrogate in \u escape'
n string_invalid_lonely_surrogate '["\ud800"]' 'offset 2: lone surrogate in \u escape'
n string_invalid_surrogate '["\ud800abc"]' 'offset 2: lone surrogate in \u escape'
nb string_invalid_utf-8 '["\xff"]' 'offset 2: invalid utf-8'
n string_inverted_surrogates_U+1D11E '["\uDd1e\uD834"]' 'offset 2: lone surrogate in \u escape'
nb string_iso_latin_1 '["\xe9"]' 'offset 2: invalid utf-8'
n string_lone_second_surrogate '["\uDFAA"]' 'offset 2: lone surrogate in \u escape'
nb string_lone_utf8_continuation_byte '["\x81"]' 'offset 2: invalid utf-8'
nb string_not_in_unicode_range '["\xf4\xbf\xbf\xbf"]' 'offset 2: invalid utf-8'
nb string_overlong_sequence_2_bytes '["\xc0\xaf"]' 'offset 2: invalid utf-8'
nb string_overlong_sequence_6_bytes '["\xfc\x83\xbf\xbf\xbf\xbf"]' 'offset 2: invalid utf-8'
nb string_overlong_sequence_6_bytes_null '["\xfc\x80\x80\x80\x80\x80"]' 'offset 2: invalid utf-8'
nb string_truncated-utf-8 '["\xe0\xff"]' 'offset 2: invalid utf-8'
nb string_utf16BE_no_BOM '\000[\000"\000\xe9\000"\000]' 'offset 0: expected a value'
nb string_utf16LE_no_BOM '[\000"\000\xe9\000"\000]\000' 'offset 1: expected a value'
n structure_500_nested_arrays "$(head -c 500 /dev/zero | tr '\0' '[')$(head -c 500 /dev/zero | tr '\0' ']')" \
	'offset 64: nesting deeper than the limit (64)'
nb structure_UTF-8_BOM_empty_object '\xef\xbb\xbf{}' 'offset 0: byte order mark'

# ---- duplicate keys ------------------------------------------------------
n dup_simple '{"a":1,"a":2}' 'offset 7: duplicate key "a"'
n dup_same_value '{"digest":"x","digest":"x"}' 'offset 14: duplicate key "digest"'
n dup_after_unescaping '{"a":1,"\u0061":2}' 'offset 7: duplicate key "a"'
n dup_surrogate_pair_and_raw '{"😀":1,"\ud83d\ude00":2}' 'offset 10: duplicate key "????"'
n dup_first_repeat_in_document_order '{"b":1,"a":2,"a":3,"b":4}' 'offset 13: duplicate key "a"'
n dup_third_copy '{"k":1,"x":2,"k":3,"k":4}' 'offset 13: duplicate key "k"'
n dup_empty_key '{"":1,"":2}' 'offset 6: duplicate key ""'
n dup_nested '{"a":{"b":1,"c":{"d":1,"d":2}}}' 'offset 23: duplicate key "d"'
n dup_nul_keys '{"a\u0000":1,"a\u0000":2}' 'offset 13: duplicate key "a?"'
n dup_message_cut_short "{\"$(printf 'k%.0s' $(seq 100))\":1,\"$(printf 'k%.0s' $(seq 100))\":2}" \
	'offset 106: duplicate key "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk..."'
n dup_key_shown_safely '{"a\"\u001b[31m":1,"a\"\u001b[31m":2}' \
	'offset 19: duplicate key "a??[31m"'
y dup_not_across_objects '[{"a":1},{"a":2}]'
y dup_not_parent_and_child '{"a":{"a":{"a":1}}}'
y dup_not_nul_prefix '{"a":1,"a\u0000":2,"a\u0000b":3,"a\u0000c":4}'
y dup_not_case '{"a":1,"A":2}'
y dup_not_prefixes '{"ab":1,"a":2,"abc":3,"":4}'
# 5000 keys k0..k4999 in scrambled order (7919 is prime), kJ = 3 J.
printf '{' >keys5000.json
for i in $(seq 0 4999); do
	j=$((i * 7919 % 5000))
	printf '"k%d":%d,' $j $((3 * j))
done >>keys5000.json
{ cat keys5000.json; printf '"k4999":0}'; } >dup-big.json
{ head -c -1 keys5000.json; printf '}'; } >keys5000.json.tmp && mv keys5000.json.tmp keys5000.json
is "reject dup_last_of_5001_keys" "$(run dup-big.json)" "error: offset $(($(wc -c <dup-big.json) - 10)): duplicate key \"k4999\"
exit 1"

# ---- UTF-8 -----------------------------------------------------------------
# Each boundary of Unicode's table 3-7, accepted and refused.
yb utf8_U+0080 '"\xc2\x80"' '"\xc2\x80"'
yb utf8_U+07FF '"\xdf\xbf"' '"\xdf\xbf"'
yb utf8_U+0800 '"\xe0\xa0\x80"' '"\xe0\xa0\x80"'
yb utf8_U+D7FF '"\xed\x9f\xbf"' '"\xed\x9f\xbf"'
yb utf8_U+E000 '"\xee\x80\x80"' '"\xee\x80\x80"'
yb utf8_U+FFFF '"\xef\xbf\xbf"' '"\xef\xbf\xbf"'
yb utf8_U+10000 '"\xf0\x90\x80\x80"' '"\xf0\x90\x80\x80"'
yb utf8_U+10FFFF '"\xf4\x8f\xbf\xbf"' '"\xf4\x8f\xbf\xbf"'
yb utf8_in_key '{"\xc3\xa9":"\xe2\x82\xac"}' '{"\xc3\xa9":"\xe2\x82\xac"}'
nb utf8_overlong_C0_80 '"\xc0\x80"' 'offset 1: invalid utf-8'
nb utf8_overlong_C1_BF '"\xc1\xbf"' 'offset 1: invalid utf-8'
nb utf8_overlong_E0_80_80 '"\xe0\x80\x80"' 'offset 1: invalid utf-8'
nb utf8_overlong_E0_9F_BF '"\xe0\x9f\xbf"' 'offset 1: invalid utf-8'
nb utf8_overlong_F0_80_80_80 '"\xf0\x80\x80\x80"' 'offset 1: invalid utf-8'
nb utf8_overlong_F0_8F_BF_BF '"\xf0\x8f\xbf\xbf"' 'offset 1: invalid utf-8'
nb utf8_surrogate_U+D800 '"\xed\xa0\x80"' 'offset 1: invalid utf-8'
nb utf8_surrogate_U+DFFF '"\xed\xbf\xbf"' 'offset 1: invalid utf-8'
nb utf8_surrogate_pair_encoded '"\xed\xa0\xbd\xed\xb8\x80"' 'offset 1: invalid utf-8'
nb utf8_past_U+10FFFF '"\xf4\x90\x80\x80"' 'offset 1: invalid utf-8'
nb utf8_lead_F5 '"\xf5\x80\x80\x80"' 'offset 1: invalid utf-8'
nb utf8_lead_FF '"\xff"' 'offset 1: invalid utf-8'
nb utf8_lone_continuation '"a\x80"' 'offset 2: invalid utf-8'
nb utf8_two_byte_cut_by_quote '"\xc3"' 'offset 1: invalid utf-8'
nb utf8_three_byte_cut '"\xe2\x82"' 'offset 1: invalid utf-8'
nb utf8_four_byte_cut_at_end '"\xf0\x9f\x98' 'offset 1: invalid utf-8'
nb utf8_bad_second_continuation '"\xe2\x82\x41"' 'offset 1: invalid utf-8'
nb utf8_bad_fourth_continuation '"\xf0\x9f\x98\xc0"' 'offset 1: invalid utf-8'
nb utf8_after_valid '"\xc3\xa9\xc3"' 'offset 3: invalid utf-8'
nb utf8_in_key_refused '{"\xc3\x28":1}' 'offset 2: invalid utf-8'
# \u escapes and raw UTF-8 give the same bytes.
yb utf8_escapes_equal_raw '["\\u00e9\\u20ac\\ud83d\\ude00\\u0080\\u07ff\\u0800\\uffff\\udbff\\udfff"]' \
	'["\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf"]'
y escapes_all_controls '"\u0000\u0001\u0007\u0008\u0009\u000a\u000b\u000c\u000d\u001f\u0020\u007f"' \
	$'"\\u0000\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r\\u001f \x7f"'
y escapes_hex_cases '"\u00C9\u00e9\uABcd"' '"Ééꯍ"'
n escape_short_hex '"\u12"' 'offset 1: invalid \u escape'
n escape_hex_at_end '"\u12' 'offset 1: invalid \u escape'
n escape_hi_surrogate_at_end '"\ud800' 'offset 1: lone surrogate in \u escape'
n escape_two_high_surrogates '"\ud800\udbff"' 'offset 1: lone surrogate in \u escape'
n escape_uppercase_U '"\U0041"' 'offset 1: invalid escape'
n escape_backslash_at_end '"\' 'offset 0: unterminated string'

# ---- limits, at and over each cap --------------------------------------------
$PY - <<'PY'
def w(name, *parts):
    with open(name, "wb") as f:
        for p in parts:
            f.write(p)
M = 1 << 20
w("str-at.json", b'"', b"a" * M, b'"')
w("str-over.json", b'"', b"a" * (M + 1), b'"')
w("str-esc-at.json", b'"', b"\\u00e9" * (M // 2), b'"')
w("str-esc-over.json", b'"', b"\\u00e9" * (M // 2), b'a"')
w("key-at.json", b'{"', b"k" * M, b'":1}')
w("key-over.json", b'{"', b"k" * (M + 1), b'":1}')
w("values-at.json", b"[", b"0," * 999998, b"0]")
w("values-over.json", b"[", b"0," * 999999, b"0]")
w("values-obj.json", b"{", b",".join(b'"%d":0' % i for i in range(999999)), b"}")
w("values-obj-over.json", b"{", b",".join(b'"%d":0' % i for i in range(1000000)), b"}")
w("input-at.json", b"[", b" " * (16 * M - 2), b"]")
w("input-over.json", b"[", b" " * (16 * M - 1), b"]")
w("depth-at.json", b"[" * 64, b"]" * 64)
w("depth-over.json", b"[" * 65, b"]" * 65)
w("depth-obj-at.json", b'{"a":' * 64, b"1", b"}" * 64)
w("depth-obj-over.json", b'{"a":' * 65, b"1", b"}" * 65)
w("deep-10000.json", b"[" * 10000)
w("deep-objects-10000.json", b'{"":' * 10000)
w("deep-100000.json", b"[" * 100000, b"]" * 100000)
w("deep-100000-open.json", b"[" * 100000)
# Sorting's worst: 250000 keys sharing a 40-byte prefix (14 MB); 15 keys of
# 1 MiB that differ only at their ends.
w("prefix-keys.json", b"{", b",".join(b'"%s%07d":%d' % (b"k" * 40, i, i) for i in range(250000)), b"}")
w("mib-keys.json", b"{", b",".join(b'"%s%08d":0' % (b"z" * (M - 8), i) for i in range(15)), b"}")
PY
q "string of 1 MiB" string -t . str-at.json
q "string of 1 MiB + 1" "error: offset 0: string longer than the limit (1048576 bytes)" str-over.json
q "string of 1 MiB: its length" 1048576 -s . str-at.json
q "escaped string of 1 MiB after unescaping" 1048576 -s . str-esc-at.json
q "escaped string of 1 MiB + 1 after unescaping" \
	"error: offset 0: string longer than the limit (1048576 bytes)" str-esc-over.json
q "key of 1 MiB" 1 -l . key-at.json
q "key of 1 MiB + 1" "error: offset 1: string longer than the limit (1048576 bytes)" key-over.json
q "1000000 values" 999999 -l . values-at.json
q "1000001 values" "error: offset 1999999: more values than the limit (1000000)" values-over.json
q "an object and 999999 members: keys are not values" 999999 -l . values-obj.json
q "an object and 1000000 members" \
	"error: offset $(($(wc -c <values-obj-over.json) - 2)): more values than the limit (1000000)" \
	values-obj-over.json
q "input of 16 MiB" array -t . input-at.json
q "input of 16 MiB + 1" "error: offset 16777216: input larger than the limit (16777216 bytes)" \
	input-over.json
q "64 nested arrays" '0
array
nothing' -l "$(printf '0.%.0s' $(seq 62))0" -t "$(printf '0.%.0s' $(seq 62))0" \
	-t "$(printf '0.%.0s' $(seq 63))0" depth-at.json
q "65 nested arrays" "error: offset 64: nesting deeper than the limit (64)" depth-over.json
q "64 nested objects" 1 -i "$(printf 'a.%.0s' $(seq 63))a" depth-obj-at.json
q "65 nested objects" "error: offset 320: nesting deeper than the limit (64)" depth-obj-over.json
# Chosen limits (jsontest -M -D -S -V).
printf '[1,2]' >small.json
q "-M 5: 5 bytes" '[1,2]' -M 5 small.json
q "-M 4: 5 bytes" "error: offset 4: input larger than the limit (4 bytes)" -M 4 small.json
q "-M 0: empty input is refused as empty" "error: offset 0: unexpected end of input" -M 0 /dev/null
q "-V 3: 3 values" '[1,2]' -V 3 small.json
q "-V 2: 3 values" "error: offset 3: more values than the limit (2)" -V 2 small.json
q "-V 1: a scalar" 7 -V 1 - <<<'7'
q "-V 0: nothing at all" "error: offset 0: more values than the limit (0)" -V 0 - <<<'7'
q "-D 0: a scalar" '"x"' -D 0 - <<<'"x"'
q "-D 0: an array" "error: offset 0: nesting deeper than the limit (0)" -D 0 - <<<'[]'
q "-D 1: one level" '[1]' -D 1 - <<<'[1]'
q "-D 1: two levels" "error: offset 5: nesting deeper than the limit (1)" -D 1 - <<<'{"a":[]}'
q "-S 3: 3 bytes" '"abc"' -S 3 - <<<'"abc"'
q "-S 3: 4 bytes" "error: offset 0: string longer than the limit (3 bytes)" -S 3 - <<<'"abcd"'
q "-S 3: 4 bytes from 2 escapes" "error: offset 1: string longer than the limit (3 bytes)" \
	-S 3 - <<<' "\u00e9\u00e9"'
q "-S 4: a surrogate pair is 4 bytes" '"😀"' -S 4 - <<<'"\ud83d\ude00"'
q "-S 3: a surrogate pair is 4 bytes" "error: offset 0: string longer than the limit (3 bytes)" \
	-S 3 - <<<'"\ud83d\ude00"'
q "-S 0: keys count too" "error: offset 1: string longer than the limit (0 bytes)" -S 0 - <<<'{"a":""}'
q "-S 0: empty strings fit" '{"":""}' -S 0 - <<<'{"":""}'

# ---- deep nesting fails fast, and deep documents do not recurse ------------
qt "10000 '[' fail at the 65th" "error: offset 64: nesting deeper than the limit (64)" \
	deep-10000.json
qt "10000 '{\"\":' fail at the 65th" "error: offset 256: nesting deeper than the limit (64)" \
	deep-objects-10000.json
qt "100000 nested arrays parse with -D 100000" '1
nothing' -D 100000 -l . -t 1 deep-100000.json
qt "100000 nested arrays, one too many for -D 99999" \
	"error: offset 99999: nesting deeper than the limit (99999)" -D 99999 -t . deep-100000.json
qt "100000 '[' unclosed, with -D 1000000" "error: offset 100000: unexpected end of input" \
	-D 1000000 deep-100000-open.json

qt "250000 keys sharing a 40-byte prefix" '250000
0
249999' -l . -i "$(printf 'k%.0s' $(seq 40))0000000" -i "$(printf 'k%.0s' $(seq 40))0249999" \
	prefix-keys.json
qt "15 keys of 1 MiB differing at their ends" 15 -l . mib-keys.json

# ---- numbers: the source text kept, exact int64 --------------------------
y number_text_kept '[1.50,1E+2,-0.0,0e-0,1.0e+28,123456789012345678901234567890]'
y number_2_53_plus_1 '9007199254740993'
big=$(printf '9%.0s' $(seq 1000))
y number_1000_digits "[$big,-$big.$big"e-"$big]"
printf '[0,-0,1,-1,42,9223372036854775807,-9223372036854775808,9223372036854775808,-9223372036854775809,1e2,1E+2,1.0,1.50e1,150e-1,15e-1,1e-1,1.5,100e-2,0e99999999999999999999,0.000e-5,-0.0e+3,1e99999999999999999999,1e-99999999999999999999,922337203685477580.7e1,922337203685477580.8e1,-922337203685477580.8e1,9223372036854775807.0,0.9223372036854775807e19,1e18,1e19,9007199254740993,"1",true,null,[1],123456789012345678901234567890e-29,1230000000000000000000e-3]' >ints.json
want='0
0
1
-1
42
9223372036854775807
-9223372036854775808
not an int64
not an int64
100
100
1
15
15
not an int64
not an int64
not an int64
1
0
0
0
not an int64
not an int64
9223372036854775807
not an int64
-9223372036854775808
9223372036854775807
9223372036854775807
1000000000000000000
not an int64
9007199254740993
not an int64
not an int64
not an int64
not an int64
not an int64
1230000000000000000'
args=
for i in $(seq 0 36); do args="$args -i $i"; done
# shellcheck disable=SC2086
q "json_int64 on 37 numbers and non-numbers" "$want" $args ints.json
q "123456789012345678901234567890e-29 is not integral" "not an int64" -i 35 ints.json
q "1 and 1000 zeros, e-1000, is 1" 1 -i . - <<<"1$(printf '0%.0s' $(seq 1000))e-1000"
q "1 and 20000 zeros, e-20000, is 1" 1 -i . - <<<"1$(head -c 20000 /dev/zero | tr '\0' 0)e-20000"
q "0.(1000 zeros)1e1001 is 1" 1 -i . - <<<"0.$(printf '0%.0s' $(seq 1000))1e1001"
q "0.(1000 zeros)1e1000 is not integral" "not an int64" -i . - <<<"0.$(printf '0%.0s' $(seq 1000))1e1000"
q "-1 and 18 zeros is in range, 19 zeros not" '-1000000000000000000
not an int64' -i 0 -i 1 - <<<'[-1000000000000000000,-10000000000000000000]'
y number_int64_text_survives '[-9223372036854775809,18446744073709551616]'

# ---- lookups ------------------------------------------------------------------
cat >index.json <<'J'
{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:9b2a28eb47540823042a2ba401386845089bb7b62a9637d55816132c4c3c36eb",
      "size": 7143,
      "platform": { "architecture": "amd64", "os": "linux" },
      "annotations": { "org.opencontainers.image.ref.name": "latest" }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
      "size": 1e3,
      "platform": { "architecture": "arm64", "os": "linux", "variant": "v8" }
    }
  ],
  "flags": [true, false, null],
  "nul": "a\u0000b",
  "empty": {}
}
J
q "index.json: lookups" 'sha256:9b2a28eb47540823042a2ba401386845089bb7b62a9637d55816132c4c3c36eb
7143
1000
{"org.opencontainers.image.ref.name":"latest"}
absent
linux
v8
absent
absent
absent
absent
2
6
0
number
object
array
string
null
nothing
nothing
true
false
not a boolean
not a boolean' \
	-c manifests.0.digest -i manifests.0.size -i manifests.1.size \
	-q manifests.0.annotations -q manifests.0.annotations.org \
	-c manifests.1.platform.os -c manifests.1.platform.variant \
	-q manifests.2 -q manifests.-1 -q manifests.x -q manifests.0.digest.x \
	-l manifests -l . -l empty -t schemaVersion -t empty -t flags -t mediaType -t flags.2 \
	-t nope -t flags.3 -b flags.0 -b flags.1 -b flags.2 -b schemaVersion index.json
q "json_cstr refuses a string holding a NUL; json_str has it all" 'not a c string
"a\u0000b"
string' -c nul -q nul -t nul index.json
q "json_cstr refuses non-strings" 'not a c string
not a c string
not a c string' -c schemaVersion -c manifests -c nope index.json
q "json_offset: where values start" '0
39
97
186
275' -o . -o mediaType -o manifests -o manifests.0.digest -o manifests.0.size index.json
q "json_int64 on a string and a missing value" 'not an int64
not an int64' -i mediaType -i nope index.json
q "lookups in an object of 5000 keys in scrambled order" '5000
0
3
14997
absent
absent' -l . -i k0 -i k1 -i k4999 -q k5000 -q k keys5000.json
printf '{"b":1,"a":2,"c":{"":3,"\\u0000":4,"z\\u0000":5},"":6}' >order.json
q "members keep document order" '{"b":1,"a":2,"c":{"":3,"\u0000":4,"z\u0000":5},"":6}' order.json
q "lookups by empty and ordinary keys" '1
2
3
6
absent' -i b -i a -i c. -i '' -q c.z order.json

# ---- canonical dumps against Python's json module -------------------------------
if ! $PY -c 'import json' 2>/dev/null; then
	skip "documents agree with python's json" "python3 not found"
	done_testing
	exit
fi
mkdir -p docs
cat >docs/index.json <<'J'
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:9b2a28eb47540823042a2ba401386845089bb7b62a9637d55816132c4c3c36eb","size":7143,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"docker.io/library/busybox:latest","org.opencontainers.image.ref.name":"latest"}}]}
J
cat >docs/manifest.json <<'J'
{
	"schemaVersion": 2,
	"mediaType": "application/vnd.oci.image.manifest.v1+json",
	"config": {
		"mediaType": "application/vnd.oci.image.config.v1+json",
		"digest": "sha256:a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824",
		"size": 1457
	},
	"layers": [
		{
			"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
			"digest": "sha256:3f4d90098f5b5a6f6a76e9d217da85aa39b2081e30fa1f7d287138d6e7bf0ad7",
			"size": 2152262
		},
		{
			"mediaType": "application/vnd.oci.image.layer.v1.tar",
			"digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"size": 0,
			"annotations": {"org.opencontainers.image.title": "empty \u00e9t\u00e9 \ud83d\udce6"}
		}
	],
	"annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}
}
J
cat >docs/config.json <<'J'
{"architecture":"amd64","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh","-c","echo \"hi\" > /tmp/x\tand\\more"],"ExposedPorts":{"80/tcp":{},"443/tcp":{}},"Labels":null,"WorkingDir":"","User":"1000:1000"},"created":"2023-07-18T23:19:33.655005962Z","history":[{"created":"2023-07-18T23:19:33.538571854Z","created_by":"/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7fd3443cef785fd1 in / "},{"created":"2023-07-18T23:19:33.655005962Z","created_by":"/bin/sh -c #(nop)  CMD [\"sh\"]","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:3d24ee258efc3bfe4066a1a9fb83febf6dc0b1548dfe896161533668281c9f4f"]}}
J
cat >docs/docker-save.json <<'J'
[{"Config":"a416a98b71e224a31ee99cff8e16063554498227d2b696152a9c3e0aa65e5824.json","RepoTags":["busybox:latest","busybox:1.36"],"Layers":["3d24ee258efc3bfe4066a1a9fb83febf6dc0b1548dfe896161533668281c9f4f/layer.tar"],"LayerSources":{"sha256:3d24ee258efc3bfe4066a1a9fb83febf6dc0b1548dfe896161533668281c9f4f":{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","size":4493312,"digest":"sha256:3d24ee258efc3bfe4066a1a9fb83febf6dc0b1548dfe896161533668281c9f4f"}}}]
J
cat >docs/strings.json <<'J'
["", " ", "\"\\\/\b\f\n\r\t", "\u0000\u0001\u001f\u007f\u0080", "\uD834\uDD1E\ud83d\ude00", "\u2028\u2029", "é€😀", "\u00e9", "a/b", {"\u0000":"nul key","é":"raw key","\u00e8":"escaped key"}]
J
cat >docs/numbers.json <<'J'
[0, -0, 0.0, -0.0, 1, -1, 1.5, -1.5e-5, 1E400, 1e-400, 123456789012345678901234567890, 9007199254740993, 0.1, 1.7976931348623157e308, 5e-324, 2.2250738585072014E-308, 1.0e+28]
J
# 60 arrays around an object holding 3 more levels: 64 in all.
{ head -c 60 /dev/zero | tr '\0' '['; printf '{"deep":[1,[2,[3]]]}'
  head -c 60 /dev/zero | tr '\0' ']'; } >docs/nesting.json
printf ' \r\n\t{ "a" : [ 1 , { } , [ ] , "" ] , "b" : null } \r\n\t' >docs/spacing.json
printf 'true' >docs/lonely-true.json
printf '"top"' >docs/lonely-string.json

cat >canon.py <<'PY'
import json, random, sys

class Obj(list):
    pass

class Num(str):
    pass

def refuse_constant(name):
    raise ValueError("constant " + name)

def canon(v, out):
    if isinstance(v, Num):
        out.append(str(v))
    elif v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, str):
        out.append(json.dumps(v, ensure_ascii=False))
    elif isinstance(v, Obj):
        out.append("{")
        for i, (k, x) in enumerate(v):
            out.append("," if i else "")
            out.append(json.dumps(k, ensure_ascii=False) + ":")
            canon(x, out)
        out.append("}")
    else:
        out.append("[")
        for i, x in enumerate(v):
            out.append("," if i else "")
            canon(x, out)
        out.append("]")

def want(path):
    text = open(path, "rb").read().decode("utf-8")
    v = json.loads(text, object_pairs_hook=Obj, parse_int=Num, parse_float=Num,
                   parse_constant=refuse_constant)
    out = []
    canon(v, out)
    with open(path[:-5] + ".want", "wb") as f:
        f.write(("".join(out) + "\n").encode("utf-8"))

# Random documents, written with every spelling JSON allows: escapes in
# either hex case, surrogate pairs, needless escapes, odd whitespace.
POOL = ['a', 'Z', ' ', '"', '\\', '/', '\b', '\f', '\n', '\r', '\t', '\x00', '\x01',
        '\x1f', '\x7f', '\x80', 'é', '\u07ff', '\u0800', '\u2028', '\ud7ff', '\ue000',
        '\ufffd', '\uffff', '\U00010000', '\U0001F600', '\U0010FFFF']
SHORT = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n',
         '\r': '\\r', '\t': '\\t', '/': '\\/'}

def hexu(r, c):
    s = '\\u%04x' % c
    return s.upper().replace('\\U', '\\u') if r.random() < 0.5 else s

def uesc(r, c):
    if c >= 0x10000:
        c -= 0x10000
        return hexu(r, 0xd800 + (c >> 10)) + hexu(r, 0xdc00 + (c & 0x3ff))
    return hexu(r, c)

def enc_str(r, s):
    out = ['"']
    for ch in s:
        c, roll = ord(ch), r.random()
        if ch in '"\\' or c < 0x20:
            out.append(SHORT[ch] if ch in SHORT and roll < 0.6 else uesc(r, c))
        elif roll < 0.2:
            out.append(uesc(r, c))
        elif ch == '/' and roll < 0.5:
            out.append('\\/')
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)

def rand_str(r):
    return ''.join(r.choice(POOL) if r.random() < 0.5 else chr(r.randrange(0x20, 0x7f))
                   for _ in range(r.choice([0, 1, 2, 5, 12])))

def rand_num(r):
    digits = lambda n: str(r.randrange(10 ** (n - 1), 10 ** n)) if n > 1 else str(r.randrange(10))
    s = r.choice(['', '-']) + r.choice(['0', digits(1), digits(r.randrange(2, 30))])
    if s.lstrip('-').startswith('0') and len(s.lstrip('-')) > 1:
        s = s.replace('0', '1', 1)
    if r.random() < 0.4:
        s += '.' + ''.join(r.choice('0123456789') for _ in range(r.randrange(1, 12)))
    if r.random() < 0.4:
        s += r.choice('eE') + r.choice(['', '+', '-']) + str(r.randrange(0, 10 ** r.randrange(1, 5)))
    return s

def ws(r):
    return r.choice(['', '', ' ', '\n', '\t', '\r\n  ', '   '])

def rand_value(r, depth):
    kind = r.randrange(7 if depth < 6 else 5)
    if kind == 0:
        return r.choice(['true', 'false', 'null'])
    if kind in (1, 2):
        return rand_num(r)
    if kind in (3, 4):
        return enc_str(r, rand_str(r))
    n = r.choice([0, 1, 2, 3, 8])
    if kind == 5:
        items = [ws(r) + rand_value(r, depth + 1) + ws(r) for _ in range(n)]
        return '[' + ','.join(items) + ']'
    keys = set()
    while len(keys) < n:
        keys.add(rand_str(r))
    items = [ws(r) + enc_str(r, k) + ws(r) + ':' + ws(r) + rand_value(r, depth + 1) + ws(r)
             for k in keys]
    return '{' + ','.join(items) + '}'

if sys.argv[1] == 'random':
    r = random.Random(int(sys.argv[2]))
    for i in range(int(sys.argv[3])):
        path = 'random/%04d.json' % i
        with open(path, 'wb') as f:
            f.write((ws(r) + rand_value(r, 0) + ws(r)).encode('utf-8'))
        want(path)
else:
    for path in sys.argv[1:]:
        want(path)
PY
# compare DIR: the files whose dump differs from Python's, or none.
compare() {
	for f in "$1"/*.json; do
		"$J" "$f" >"${f%.json}.got" 2>&1 || echo "$f: exit $?"
		cmp -s "${f%.json}.got" "${f%.json}.want" || echo "$f differs"
	done
}
ok "python's json reads the documents written here" $PY canon.py docs/*.json
for f in docs/*.json; do
	"$J" "$f" >"${f%.json}.got" 2>&1
	is_file "$(basename "$f") dumps as python's json reads it" "${f%.json}.got" "${f%.json}.want"
done
mkdir -p random
ok "python writes and reads 300 random documents" $PY canon.py random 30 300
is "300 random documents dump as python's json reads them" "$(compare random | head -n 20)" ""
ok "an edited expectation is caught (the comparison can fail)" \
	sh -c 'printf x >>random/0000.want; ! cmp -s random/0000.got random/0000.want'

done_testing
