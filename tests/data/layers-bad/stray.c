/* breaks the rule: not in a layer folder */
