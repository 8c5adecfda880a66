/** @packageDocumentation The dataset compiler: spec -> plan -> scan -> join -> split -> writers -> manifest. */
export {}
