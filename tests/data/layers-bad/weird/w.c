/* breaks the rule: a folder that is no layer */
